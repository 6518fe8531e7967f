/** One response: its status, its body as text and, where it parses, as JSON, and its headers. */
export interface ClientResponse {
  readonly status: number;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: any;
  readonly text: string;
  readonly headers: Headers;
}

/** A browser-like client over real HTTP that keeps its cookies: the tests' and the lab's virtual users'. */
export class Client {
  /** The Set-Cookie headers of the last response. */
  public lastSetCookie: string[] = [];

  constructor(private readonly base: string, public readonly jar = new Map<string, string>()) {}

  /** The same browser (the same cookie jar) talking to another server. */
  public at(base: string): Client {
    return new Client(base, this.jar);
  }

  /**
   * One request; with `timeoutMs`, a request without an answer by then fails
   * (a server that hangs is told from one that is slow).
   */
  public async request(method: string, path: string, options: { json?: unknown; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<ClientResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.jar.size > 0 && headers.cookie === undefined) {
      headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const signal = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    const res = await fetch(`${this.base}${path}`, { method, headers, body, signal });
    this.lastSetCookie = res.headers.getSetCookie();
    for (const line of this.lastSetCookie) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  public get(path: string): Promise<ClientResponse> {
    return this.request('GET', path);
  }

  public post(path: string, json?: unknown): Promise<ClientResponse> {
    return this.request('POST', path, json === undefined ? {} : { json });
  }
}
