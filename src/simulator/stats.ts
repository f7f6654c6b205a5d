// What the simulator saw, for tests' assertions: request counts by route and outcome, and every submit by input,
// so a test can prove a gateway never sent the same paid request twice.

export interface SimulatorStats {
  /** route → outcome → count. Outcomes are HTTP statuses (`"200"`, `"429"`) or `dropped`, `hung`, `truncated`. */
  requests: Record<string, Record<string, number>>;
  /** Jobs created (dry runs and refused submits excluded; a submit dropped after processing counts). */
  submits: number;
  /** stableStringify(body) → jobs created with that body. */
  submitsByInput: Record<string, number>;
  /** The keys of submitsByInput seen more than once. */
  duplicateInputs: string[];
  /** The most jobs unfinished upstream at once (counted when a job was created), for tests of the gateway's in-flight cap. */
  maxConcurrentJobs: number;
  jobs: Array<{ jobId: string; status: string; createdAt: string; input: Record<string, unknown>; lost: boolean }>;
}

/** JSON with object keys sorted at every level: equal inputs give equal strings whatever their key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Distinct inputs remembered; past it the oldest are forgotten. */
const MAX_INPUT_KEYS = 10_000;

export class StatsRecorder {
  #requests = new Map<string, Map<string, number>>();
  #submits = 0;
  #submitsByInput = new Map<string, number>();
  #maxConcurrentJobs = 0;

  request(route: string, outcome: number | 'dropped' | 'hung' | 'truncated'): void {
    const byOutcome = this.#requests.get(route) ?? new Map<string, number>();
    byOutcome.set(String(outcome), (byOutcome.get(String(outcome)) ?? 0) + 1);
    this.#requests.set(route, byOutcome);
  }

  /** A job was created while `concurrent` jobs (itself included) were unfinished. */
  submit(input: Record<string, unknown>, concurrent: number): void {
    this.#submits++;
    this.#maxConcurrentJobs = Math.max(this.#maxConcurrentJobs, concurrent);
    const key = stableStringify(input);
    this.#submitsByInput.set(key, (this.#submitsByInput.get(key) ?? 0) + 1);
    if (this.#submitsByInput.size > MAX_INPUT_KEYS) this.#submitsByInput.delete(this.#submitsByInput.keys().next().value!);
  }

  snapshot(jobs: SimulatorStats['jobs']): SimulatorStats {
    const submitsByInput = Object.fromEntries(this.#submitsByInput);
    return {
      requests: Object.fromEntries([...this.#requests].map(([route, m]) => [route, Object.fromEntries(m)])),
      submits: this.#submits,
      submitsByInput,
      duplicateInputs: Object.keys(submitsByInput).filter((key) => submitsByInput[key]! > 1),
      maxConcurrentJobs: this.#maxConcurrentJobs,
      jobs,
    };
  }

  reset(): void {
    this.#requests.clear();
    this.#submits = 0;
    this.#submitsByInput.clear();
    this.#maxConcurrentJobs = 0;
  }
}
