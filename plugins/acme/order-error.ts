// Why an ACME order failed: temporary or permanent (rejected name, CAA), and how long the
// CA asked us to wait. Apart from order.ts so that the manager can tell them apart without
// loading acme-client (it is loaded when an order is placed, not at start).
export class OrderError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** Seconds the CA asked us to wait (Retry-After), if it did. */
    readonly retryAfter?: number,
    readonly problemType?: string,
  ) {
    super(message);
  }
}
