// Limits the runtime enforces, with their units in the names.

/** Bytes of stdout, and separately of stderr, kept per process (head and tail halves). */
export const MAX_CAPTURED_OUTPUT_BYTES = 256 * 1024

/** How often a supervisor renews the leases of the processes it runs. */
export const HEARTBEAT_INTERVAL_MS = 5_000

/** Time between SIGTERM and SIGKILL when a process group is terminated (timeout, abort, lost lease). */
export const DEFAULT_ABORT_GRACE_MS = 5_000

/**
 * After the script itself exits, how long to wait for its stdout/stderr pipes to close (whatever is
 * left of its process group has been sent SIGTERM) before SIGKILL and reporting what was captured.
 */
export const EXIT_DRAIN_MS = 500

/** First delay before an undelivered exit report is sent again; doubles on each failure. */
export const REPORT_RETRY_INITIAL_MS = 50

/** Longest delay between two attempts to deliver an exit report. */
export const REPORT_RETRY_MAX_MS = 5_000

/** One HTTP request from the supervisor (report or heartbeat) is abandoned after this long. */
export const REQUEST_TIMEOUT_MS = 30_000
