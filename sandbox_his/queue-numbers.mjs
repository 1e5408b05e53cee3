// Queue numbers assigned by the HIS (`--queue-numbers his`), as hospital
// information systems do when a visit is registered.
//
// A hook of the repository's create path: a new Encounter whose serviceType
// has a coding in the department system and which has no identifier of the
// queue system yet gets the next number of that department for the local day
// of period.start (now when absent):
//   identifier {system: <queue system>, value: "<DEPT>-<YYYYMMDD>-<NNN>"}
// It runs only when a resource is really stored (a conditional create that
// matched stores nothing), and leaves an undo step, so a rolled-back
// transaction gives its number back.

/** YYYYMMDD of an R4 date/dateTime (or of now) in the time zone. */
export function localDay(value, timeZone, now = new Date()) {
  if (typeof value === 'string') {
    const m = /^(\d{4})-(\d{2})-(\d{2})(T[0-9:.]+)?$/.exec(value);
    if (m) return `${m[1]}${m[2]}${m[3]}`; // a date, or a dateTime without offset: already local
  }
  let when = typeof value === 'string' ? new Date(value) : now;
  if (Number.isNaN(when.getTime())) when = now;
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(when)
    .reduce((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  return `${parts.year}${parts.month}${parts.day}`;
}

export class QueueNumbers {
  constructor({ queueSystem, departmentSystem, timeZone }) {
    this.queueSystem = queueSystem;
    this.departmentSystem = departmentSystem;
    this.timeZone = timeZone;
    this.counters = new Map(); // `${dept}-${YYYYMMDD}` -> last number given
  }

  /** Repository create hook: returns the resource to store (a copy when numbered). */
  assign(resource, undoSteps) {
    if (resource?.resourceType !== 'Encounter') return resource;
    const codings = [resource.serviceType].flat().flatMap((cc) => cc?.coding || []);
    const dept = codings.find((c) => c?.system === this.departmentSystem && c.code)?.code;
    if (!dept) return resource;
    if ([resource.identifier || []].flat().some((i) => i?.system === this.queueSystem)) return resource;
    const key = `${dept}-${localDay(resource.period?.start, this.timeZone)}`;
    const previous = this.counters.get(key) || 0;
    this.counters.set(key, previous + 1);
    undoSteps.push(() => this.counters.set(key, previous));
    const value = `${key}-${String(previous + 1).padStart(3, '0')}`;
    return { ...resource, identifier: [...[resource.identifier || []].flat(), { system: this.queueSystem, value }] };
  }

  snapshot() {
    return Object.fromEntries(this.counters);
  }
}
