/** One readiness check, e.g. `{ name: 'store', ok: true, detail: 'reachable' }`; detail never carries customer data. */
export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** `/readyz`'s answer: ok when every check is ok. */
export interface ReadinessReport {
  ok: boolean;
  checks: ReadinessCheck[];
}

/**
 * Readiness port (implemented by the composition root: store reachable, rules loaded, every source
 * healthy). `/readyz` answers 200 when `ok`, else 503, with the report as JSON.
 */
export interface HealthProbe {
  /** Never throws: a failing check is `ok: false` with a short detail. */
  ready(): Promise<ReadinessReport>;
}
