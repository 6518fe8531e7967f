import { BundlingOutput, CfnResource, CustomResource, Duration, Stack, Tokenization, Validations } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { SETUP_PROPS } from '../contract/database-setup';
import { acknowledgeVpcAccess } from './acknowledgements';
import { DATABASE_SETUP_BUNDLE, bundleAssetOptions } from './esbuild-bundle';
import { functionRole } from './function-role';
import { encryptedLogGroup } from './keys';

/** What the setup needs: where the primary is, as whom to sign in, whom to create. */
export interface DatabaseSetupProps {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly instance: rds.DatabaseInstance;
  readonly engine: 'postgres' | 'mysql';
  readonly port: number;
  readonly databaseName: string;
  /** The master user's secret: only the setup reads it. */
  readonly masterSecret: secretsmanager.ISecret;
  /** The application user's secret: the user the setup creates or updates. */
  readonly appSecret: secretsmanager.ISecret;
  readonly logEncryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The one-time setup of the session database, a custom resource: a Lambda in
 * the VPC that signs in to the primary as the master user (TLS, verified
 * against the RDS bundle) and creates the sessions table and the application
 * user (lambda/database-setup). It runs again on every change of its
 * properties, and so on every change of its handler's code, whose hash is
 * one of them; each of its steps is idempotent.
 */
export class DatabaseSetup extends Construct {
  /** The custom resource: what a client waits for before it signs in as the application user. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: DatabaseSetupProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Session database setup: out to the primary and to HTTPS (Secrets Manager, the RDS certificate bundle, the Lambda API)',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: Secrets Manager, the RDS certificate bundle, the Lambda API');
    props.instance.connections.allowDefaultPortFrom(securityGroup, 'Session database setup (master user, once per deploy that changes it)');
    const network = { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: [securityGroup] };
    const logGroup = (logId: string) => encryptedLogGroup(this, logId, props.logEncryptionKey, props.logRetention);

    const role = functionRole(this, 'HandlerRole', 'Session database setup: reads the master and the application user\'s secrets, nothing else', true);
    const handlerLogs = logGroup('HandlerLogs');
    handlerLogs.grantWrite(role);
    props.masterSecret.grantRead(role);
    props.appSecret.grantRead(role);
    const { path: codeDir, ...code } = bundleAssetOptions(DATABASE_SETUP_BUNDLE, BundlingOutput.NOT_ARCHIVED);
    const handler = new lambda.Function(this, 'Handler', {
      code: lambda.Code.fromAsset(codeDir, code),
      handler: 'index.onEvent',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      description: 'Session database setup: the sessions table and the application user',
      logGroup: handlerLogs,
      role,
      ...network,
    });
    const provider = new cr.Provider(this, 'Provider', { onEventHandler: handler, logGroup: logGroup('ProviderLogs'), ...network });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SessionDatabaseSetup',
      properties: {
        [SETUP_PROPS.ENGINE]: props.engine,
        [SETUP_PROPS.HOST]: props.instance.dbInstanceEndpointAddress,
        [SETUP_PROPS.PORT]: Tokenization.stringifyNumber(props.port),
        [SETUP_PROPS.DATABASE]: props.databaseName,
        [SETUP_PROPS.MASTER_SECRET_ARN]: props.masterSecret.secretArn,
        [SETUP_PROPS.APP_SECRET_ARN]: props.appSecret.secretArn,
        // CloudFormation sends an Update only when a property changes: this one changes with the handler's code, so a new release's setup runs on a stack that has the old one's.
        [SETUP_PROPS.CODE_HASH]: codeAssetHash(handler),
      },
    });
    // The handler reaches Secrets Manager and the certificate bundle through the subnets' routes out.
    this.resource.node.addDependency(props.vpc.selectSubnets(props.vpcSubnets).internetConnectivityEstablished);
    // And the primary through these rules, which take their port from the instance's endpoint: nothing else orders them before the setup.
    this.resource.node.addDependency(...rulesToDatabase(securityGroup, props.instance.connections));
    acknowledgeSetup(this, provider, handler);
  }
}

/**
 * The hash of the function's code asset, which names the code's S3 object:
 * it changes whenever the bundle does. aws-cdk-lib keeps the asset private to
 * the code, as the function's child `Code`; if a release moves it, synth stops
 * here rather than leave the setup without its trigger.
 */
function codeAssetHash(fn: lambda.Function): string {
  const asset = fn.node.tryFindChild('Code');
  if (!(asset instanceof s3assets.Asset)) {
    throw new Error(`cdk-session-tier: cannot find the code asset of ${fn.node.path}: this aws-cdk-lib's lambda.Code.fromAsset no longer makes an s3_assets.Asset named Code under the function. `
      + 'This is a bug in cdk-session-tier, not in your props: please report it with your aws-cdk-lib version.');
  }
  return asset.assetHash;
}

/**
 * The rules `allowDefaultPortFrom` made between the setup's group and the
 * database's: the ingress on each database group from the setup's, and the
 * egress of the setup's to each. Found among the groups' children, where
 * aws-cdk-lib puts rules between groups of one stack; if a release puts them
 * elsewhere, synth stops here rather than let the setup race its rules.
 */
function rulesToDatabase(setup: ec2.SecurityGroup, database: ec2.Connections): CfnResource[] {
  const databaseGroups = database.securityGroups.map((g) => g.securityGroupId);
  const isDatabaseGroup = (id?: string) => id !== undefined && databaseGroups.includes(id);
  const rules = [setup, ...database.securityGroups].flatMap((g) => g.node.findAll()).filter((c): c is CfnResource =>
    (c instanceof ec2.CfnSecurityGroupIngress && c.sourceSecurityGroupId === setup.securityGroupId && isDatabaseGroup(c.groupId))
    || (c instanceof ec2.CfnSecurityGroupEgress && c.groupId === setup.securityGroupId && isDatabaseGroup(c.destinationSecurityGroupId)));
  if (rules.length !== 2 * databaseGroups.length) {
    throw new Error(`cdk-session-tier: found ${rules.length} security group rules between the database setup's group and the database's ${databaseGroups.length} at ${setup.node.path}, `
      + `expected an ingress and an egress rule for each: this aws-cdk-lib places the rules of Connections.allowDefaultPortFrom elsewhere. `
      + 'This is a bug in cdk-session-tier, not in your props: please report it with your aws-cdk-lib version.');
  }
  return rules;
}

function acknowledgeSetup(scope: Construct, provider: cr.Provider, handler: lambda.Function): void {
  acknowledgeVpcAccess(provider);
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The CDK provider framework\'s own function uses the AWS-maintained basic execution role to write its logs; it grants nothing else.',
  });
  const stack = Stack.of(scope);
  for (const fn of [handler, ...provider.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function)]) {
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnResource)}.Arn>:*]`,
      reason: 'The provider framework invokes the setup handler by ARN including its versions (<arn>:*), as CDK grants lambda:InvokeFunction; no other function.',
    });
  }
}
