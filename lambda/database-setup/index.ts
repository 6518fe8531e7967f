/**
 * The entry point of the session database's one-time setup, for the CDK
 * custom-resource provider framework: on Create and Update it creates the
 * sessions table and the application user (idempotently: a retry or an
 * update runs every step again); on Delete it leaves both, since the
 * database itself goes with the stack or is kept on purpose.
 * The SQL is in sql.ts, the connections in run.ts, the AWS reads in aws.ts.
 */
import { RDS_CA_BUNDLE_URL, SETUP_PROPS } from '../../lib/contract/database-setup';
import { fetchPem, readCredentials } from './aws';
import { runSetup, verifiedTls } from './run';

/** The provider framework's request (the fields the setup reads). */
export interface SetupEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
}

/** What the setup answers. */
export interface SetupResponse {
  readonly PhysicalResourceId: string;
}

/** The properties the setup reads: all but the code hash, which only makes CloudFormation send an Update. */
type SetupProperty = Exclude<keyof typeof SETUP_PROPS, 'CODE_HASH'>;

/** The properties, checked: every one it reads is a non-empty string. */
function properties(event: SetupEvent): Record<SetupProperty, string> {
  const out = {} as Record<SetupProperty, string>;
  for (const [key, name] of Object.entries(SETUP_PROPS) as Array<[keyof typeof SETUP_PROPS, string]>) {
    if (key === 'CODE_HASH') {
      continue;
    }
    const value = event.ResourceProperties[name];
    if (typeof value !== 'string' || value === '') {
      throw new Error(`${name}: must be a non-empty string, got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  if (out.ENGINE !== 'postgres' && out.ENGINE !== 'mysql') {
    throw new Error(`${SETUP_PROPS.ENGINE}: must be postgres or mysql, got ${JSON.stringify(out.ENGINE)}`);
  }
  return out;
}

export async function onEvent(event: SetupEvent): Promise<SetupResponse> {
  const p = properties(event);
  const physicalId = `${p.HOST}/${p.DATABASE}`;
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
  }
  const [ca, master, app] = await Promise.all([
    fetchPem(RDS_CA_BUNDLE_URL), readCredentials(p.MASTER_SECRET_ARN), readCredentials(p.APP_SECRET_ARN),
  ]);
  await runSetup({
    engine: p.ENGINE as 'postgres' | 'mysql',
    host: p.HOST,
    port: Number(p.PORT),
    user: master.username,
    password: master.password,
    tls: verifiedTls(p.HOST, ca),
  }, { database: p.DATABASE, user: app.username }, app.password);
  return { PhysicalResourceId: physicalId };
}
