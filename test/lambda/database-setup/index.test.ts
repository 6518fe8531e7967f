/**
 * The setup's entry point and its AWS reads, with the Secrets Manager
 * client's transport mocked: every request checked against AWS's service
 * model, and allowed by the setup role's policy in the synthesized template.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readCredentials } from '../../../lambda/database-setup/aws';
import { onEvent } from '../../../lambda/database-setup/index';
import { SETUP_PROPS } from '../../../lib/contract/database-setup';
import { SessionDatabase } from '../../../lib';
import { RequestLog } from '../../contracts/sent-requests';
import { testStack, testVpc } from '../../helpers/app';

const MASTER = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:master-AbCdEf';
const secrets = mockClient(SecretsManagerClient);
const log = new RequestLog([{ service: 'secretsmanager', mock: secrets }]);

beforeEach(() => secrets.reset());

describe('readCredentials', () => {
  test('takes the username and password of a JSON secret, with a request AWS accepts', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: MASTER }).resolves({ SecretString: JSON.stringify({ username: 'sessions_admin', password: 'p', host: 'h' }) });
    await expect(readCredentials(MASTER, new SecretsManagerClient({}))).resolves.toEqual({ username: 'sessions_admin', password: 'p' });
    expect(log.takeNew()).toEqual([{ service: 'secretsmanager', operation: 'GetSecretValue', input: { SecretId: MASTER } }]);
  });

  test.each([
    ['not JSON', 'hunter2', /secret arn:.*master-AbCdEf: not JSON$/],
    ['without a password', JSON.stringify({ username: 'u' }), /needs non-empty username and password fields$/],
    ['with an empty username', JSON.stringify({ username: '', password: 'hunter2' }), /needs non-empty username and password fields$/],
  ])('fails for a secret %s, naming the secret and never its value', async (_name, value, message) => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: value });
    const error = await readCredentials(MASTER, new SecretsManagerClient({})).catch((e: Error) => e);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('onEvent', () => {
  const properties = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    [SETUP_PROPS.ENGINE]: 'postgres',
    [SETUP_PROPS.HOST]: 'db.abc.eu-west-1.rds.amazonaws.com',
    [SETUP_PROPS.PORT]: '5433',
    [SETUP_PROPS.DATABASE]: 'sessions',
    [SETUP_PROPS.MASTER_SECRET_ARN]: MASTER,
    [SETUP_PROPS.APP_SECRET_ARN]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf',
  };

  test('a Delete leaves the table and the user, and reads nothing', async () => {
    await expect(onEvent({ RequestType: 'Delete', PhysicalResourceId: 'db.abc.eu-west-1.rds.amazonaws.com/sessions', ResourceProperties: properties }))
      .resolves.toEqual({ PhysicalResourceId: 'db.abc.eu-west-1.rds.amazonaws.com/sessions' });
    expect(secrets.calls()).toHaveLength(0);
  });

  test('accepts the code hash and ignores it, so a stack made before it, whose events have none, is served too', async () => {
    const deleteEvent = (props: Record<string, string>) => onEvent({ RequestType: 'Delete', PhysicalResourceId: 'db.abc.eu-west-1.rds.amazonaws.com/sessions', ResourceProperties: props });
    const answer = { PhysicalResourceId: 'db.abc.eu-west-1.rds.amazonaws.com/sessions' };
    await expect(deleteEvent(properties)).resolves.toEqual(answer);
    await expect(deleteEvent({ ...properties, [SETUP_PROPS.CODE_HASH]: 'a'.repeat(64) })).resolves.toEqual(answer);
    await expect(onEvent({ RequestType: 'Update', ResourceProperties: { ...properties, [SETUP_PROPS.CODE_HASH]: 'a'.repeat(64), [SETUP_PROPS.HOST]: '' } }))
      .rejects.toThrow('Host: must be a non-empty string, got ""');
    expect(secrets.calls()).toHaveLength(0);
  });

  test('fails for a missing property or an unknown engine before it reads anything', async () => {
    await expect(onEvent({ RequestType: 'Create', ResourceProperties: { ...properties, [SETUP_PROPS.HOST]: '' } })).rejects.toThrow('Host: must be a non-empty string, got ""');
    await expect(onEvent({ RequestType: 'Create', ResourceProperties: { ...properties, [SETUP_PROPS.ENGINE]: 'oracle' } })).rejects.toThrow('Engine: must be postgres or mysql, got "oracle"');
    expect(secrets.calls()).toHaveLength(0);
  });
});

test('the setup role may read exactly the two secrets the handler is given, and the handler gets both', () => {
  const stack = testStack();
  new SessionDatabase(stack, 'Db', { vpc: testVpc(stack) });
  const template = Template.fromStack(stack);
  const setup = Object.values(template.findResources('Custom::SessionDatabaseSetup'))[0].Properties;
  const policy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => /^DbSetupHandlerRole/.test(id))![1].Properties.PolicyDocument;
  const readable = (policy.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
    .filter((st) => ([] as string[]).concat(st.Action).includes('secretsmanager:GetSecretValue'))
    .flatMap((st) => ([] as unknown[]).concat(st.Resource));
  expect(readable).toEqual(expect.arrayContaining([setup[SETUP_PROPS.MASTER_SECRET_ARN], setup[SETUP_PROPS.APP_SECRET_ARN]]));
  expect(readable).toHaveLength(2);
});
