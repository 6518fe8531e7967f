import { hostname } from 'os';

/** Where this process runs, shown on the page. */
export interface InstanceInfo {
  readonly instance: string;
  readonly az: string;
}

const IMDS = 'http://169.254.169.254/latest';

/**
 * The EC2 instance id and Availability Zone from instance metadata with
 * IMDSv2 (a session token first), or off EC2 the given name or the host name. Read once at start.
 */
export async function instanceInfo(source: 'imds' | 'hostname', timeoutMs = 2000, name?: string): Promise<InstanceInfo> {
  if (source === 'hostname') {
    return { instance: name ?? hostname(), az: 'local' };
  }
  const token = await (await fetch(`${IMDS}/api/token`, {
    method: 'PUT',
    headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
    signal: AbortSignal.timeout(timeoutMs),
  })).text();
  const get = async (path: string) => {
    const res = await fetch(`${IMDS}/meta-data/${path}`, { headers: { 'X-aws-ec2-metadata-token': token }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      throw new Error(`instance metadata ${path}: HTTP ${res.status}`);
    }
    return res.text();
  };
  return { instance: await get('instance-id'), az: await get('placement/availability-zone') };
}
