/** What `GET /api/session` and every state-changing route answer, and what the page shows. */
export interface SessionView {
  readonly color: string;
  readonly version: string;
  readonly strategy: string;
  readonly instance: string;
  readonly az: string;
  readonly user: string | null;
  readonly createdAt: string;
  readonly sessionAgeSeconds: number;
  readonly visits: number;
  readonly counter: number;
  readonly cart: readonly string[];
}
