// The sandbox's repository: Medplum's MemoryRepository with
//  - all-or-nothing transactions: every write inside `withTransaction` leaves an
//    undo step (resource map, history, identifier index, hook side effects such
//    as queue numbers); a failure replays them backwards, so nothing remains;
//  - an identifier index built from what is stored: every write to the store
//    (create, update, patch, delete, expunge, undo) re-indexes that resource,
//    and searches by `identifier=system|value` (or `_id`) look at the indexed
//    candidates only instead of evaluating FHIRPath on every resource.
//
// MemoryRepository keeps `resources` (type -> id -> resource) and `history`
// (type -> id -> versions) and funnels every write through
// `createResourceSync`; its searches all go through `searchSync`. Both are
// TypeScript-private, plain methods in JavaScript, so they are overridden here.
import { Operator, globalSchema, splitSearchOnComma } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';

export class SandboxRepository extends MemoryRepository {
  constructor() {
    super();
    this.identifierIndex = new Map(); // `${type} ${system}|${value}` (lower case) -> Set(id)
    this.indexedKeys = new Map(); // `${type}/${id}` -> its keys
    this.undoLog = null; // array while a transaction runs
    this.createHooks = []; // (resource, undoSteps) -> resource, run on every new resource
    this.searchStats = { indexed: 0, scans: 0, examined: 0 };
    this.indexableTypes = new Map();
  }

  // -- writes -------------------------------------------------------------------
  createResourceSync(resource, options, update = false) {
    const type = resource.resourceType;
    const before = resource.id ? this.resources.get(type)?.get(resource.id) : undefined;
    const steps = [];
    if (!before) {
      for (const hook of this.createHooks) resource = hook(resource, steps);
    }
    let stored;
    try {
      stored = super.createResourceSync(resource, options, update);
    } catch (err) {
      steps.reverse().forEach((undo) => undo());
      throw err;
    }
    const id = stored.id;
    this.reindex(type, id);
    this.journal(...steps, () => {
      const versions = this.history.get(type)?.get(id);
      versions?.pop();
      if (versions && versions.length === 0) this.history.get(type).delete(id);
      if (before) this.resources.get(type).set(id, before);
      else this.resources.get(type)?.delete(id);
      this.reindex(type, id);
    });
    return stored;
  }

  async deleteResource(resourceType, id, options) {
    const before = this.resources.get(resourceType)?.get(id);
    await super.deleteResource(resourceType, id, options);
    this.reindex(resourceType, id);
    this.journal(() => {
      this.resources.get(resourceType).set(id, before);
      this.reindex(resourceType, id);
    });
  }

  async expungeResources(resourceType, ids) {
    const saved = ids.map((id) => [id, this.resources.get(resourceType)?.get(id), this.history.get(resourceType)?.get(id)]);
    await super.expungeResources(resourceType, ids);
    ids.forEach((id) => this.reindex(resourceType, id));
    this.journal(() => {
      for (const [id, resource, versions] of saved) {
        if (resource) this.resources.get(resourceType).set(id, resource);
        if (versions) this.history.get(resourceType).set(id, versions);
        this.reindex(resourceType, id);
      }
    });
  }

  clear() {
    super.clear();
    this.identifierIndex.clear();
    this.indexedKeys.clear();
  }

  // -- transactions ---------------------------------------------------------------
  async withTransaction(callback) {
    if (this.undoLog) return callback(this); // nested bundle: part of the outer one
    this.undoLog = [];
    try {
      return await callback(this);
    } catch (err) {
      const steps = this.undoLog;
      this.undoLog = null;
      steps.reverse().forEach((undo) => undo());
      throw err;
    } finally {
      this.undoLog = null;
    }
  }

  journal(...steps) {
    if (this.undoLog) this.undoLog.push(...steps);
  }

  // -- identifier index -----------------------------------------------------------
  /** True when the type's `identifier` search parameter reads exactly `<type>.identifier`. */
  isIndexable(type) {
    if (!this.indexableTypes.has(type)) {
      const expr = globalSchema.types[type]?.searchParams?.identifier?.expression || '';
      const own = expr.split('|').map((s) => s.trim()).filter((s) => s.startsWith(`${type}.`));
      this.indexableTypes.set(type, own.length === 1 && own[0] === `${type}.identifier`);
    }
    return this.indexableTypes.get(type);
  }

  reindex(type, id) {
    const ref = `${type}/${id}`;
    for (const key of this.indexedKeys.get(ref) || []) {
      const ids = this.identifierIndex.get(key);
      ids?.delete(id);
      if (ids?.size === 0) this.identifierIndex.delete(key);
    }
    this.indexedKeys.delete(ref);
    const stored = this.resources.get(type)?.get(id);
    if (!stored || !this.isIndexable(type)) return;
    const keys = [stored.identifier || []]
      .flat()
      .filter((i) => i?.system && i?.value)
      .map((i) => `${type} ${i.system.toLowerCase()}|${i.value.toLowerCase()}`);
    for (const key of keys) {
      if (!this.identifierIndex.has(key)) this.identifierIndex.set(key, new Set());
      this.identifierIndex.get(key).add(id);
    }
    if (keys.length) this.indexedKeys.set(ref, keys);
  }

  /** Ids that may match (a superset of the matches), or null when the search cannot use the index. */
  candidateIds(searchRequest) {
    const type = searchRequest.resourceType;
    const filters = searchRequest.filters || [];
    if (filters.some((f) => f.code.includes('.') || f.code.startsWith('_has'))) return null;
    for (const f of filters) {
      if (f.operator !== Operator.EQUALS) continue;
      if (f.code === '_id') return splitSearchOnComma(f.value);
      if (f.code !== 'identifier' || !this.isIndexable(type)) continue;
      const tokens = splitSearchOnComma(f.value);
      if (!tokens.every((t) => /^[^|]+\|[^|]+$/.test(t))) continue;
      const ids = new Set();
      for (const t of tokens) {
        for (const id of this.identifierIndex.get(`${type} ${t.toLowerCase()}`) || []) ids.add(id);
      }
      return [...ids];
    }
    return null;
  }

  searchSync(searchRequest) {
    const type = searchRequest.resourceType;
    const ids = this.candidateIds(searchRequest);
    const all = this.resources.get(type);
    if (!ids) {
      this.searchStats.scans += 1;
      this.searchStats.examined += all?.size || 0;
      return super.searchSync(searchRequest);
    }
    // Narrow the type's map to the candidates for the duration of this
    // (synchronous) search; the engine still applies every filter itself.
    const narrowed = new Map();
    for (const id of ids) {
      const r = all?.get(id);
      if (r) narrowed.set(id, r);
    }
    this.searchStats.indexed += 1;
    this.searchStats.examined += narrowed.size;
    this.resources.set(type, narrowed);
    try {
      return super.searchSync(searchRequest);
    } finally {
      if (all) this.resources.set(type, all);
      else this.resources.delete(type);
    }
  }

  /** The stored resource (no copy; callers must not change it). */
  peek(type, id) {
    return this.resources.get(type)?.get(id);
  }
}
