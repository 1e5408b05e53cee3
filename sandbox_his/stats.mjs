// Request counters for tests and benchmarks (GET /__admin/stats).
export class Stats {
  constructor(repo) {
    this.repo = repo;
    this.reset();
  }

  reset() {
    this.requests = 0; // FHIR requests (anything under the base)
    this.byMethod = {}; // "GET" -> n
    this.byResource = {}; // "GET Patient", "POST Encounter", "transaction", "batch", "GET metadata" -> n
    this.byKind = {}; // profile-relevant kinds, see README.md
    this.byStatus = {}; // "200" -> n
    this.tokenRequests = { total: 0, granted: 0, refused: 0 };
    this.faultsFired = {}; // action -> n
    const s = this.repo.searchStats;
    s.indexed = 0;
    s.scans = 0;
    s.examined = 0;
  }

  request(method, resourceKey) {
    this.requests += 1;
    this.byMethod[method] = (this.byMethod[method] || 0) + 1;
    this.byResource[resourceKey] = (this.byResource[resourceKey] || 0) + 1;
  }

  kind(name) {
    this.byKind[name] = (this.byKind[name] || 0) + 1;
  }

  status(code) {
    this.byStatus[code] = (this.byStatus[code] || 0) + 1;
  }

  token(granted) {
    this.tokenRequests.total += 1;
    this.tokenRequests[granted ? 'granted' : 'refused'] += 1;
  }

  fault(action) {
    const key = action.split(':')[0];
    this.faultsFired[key] = (this.faultsFired[key] || 0) + 1;
  }

  toJSON() {
    const { indexed, scans, examined } = this.repo.searchStats;
    return {
      requests: this.requests,
      byMethod: this.byMethod,
      byResource: this.byResource,
      byKind: this.byKind,
      byStatus: this.byStatus,
      tokenRequests: this.tokenRequests,
      faultsFired: this.faultsFired,
      searches: { indexed, scans, examined },
    };
  }
}
