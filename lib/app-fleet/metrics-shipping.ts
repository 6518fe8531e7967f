import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { APP_ENV } from '../contract/app-env';
import { encryptedLogGroup, logsKey } from '../private/keys';
import { BootScriptBuilder } from './boot-script';
import { ResolvedFleetProps } from './resolve-props';

/**
 * Installs the CloudWatch agent with its Embedded Metric Format listener
 * (TCP and UDP 127.0.0.1:25888) and points the app at it; the agent writes
 * to the fleet's log group, a stream per instance, and CloudWatch extracts
 * the metrics.
 */
export function shipMetrics(fleet: Construct, r: ResolvedFleetProps, role: iam.IGrantable, boot: BootScriptBuilder): logs.LogGroup {
  const key = r.logEncryptionKey ?? logsKey(fleet, 'LogsKey', `Encrypts the ${r.color} fleet's log group`);
  const logGroup = encryptedLogGroup(fleet, 'AppMetrics', key, r.logRetention);
  logGroup.grantWrite(role);
  boot.addEnvironment(APP_ENV.METRICS_INTERVAL, String(r.metricsInterval.toSeconds()));
  boot.addEnvironment('AWS_EMF_ENVIRONMENT', 'Agent');
  boot.addEnvironment('AWS_EMF_AGENT_ENDPOINT', 'tcp://127.0.0.1:25888');
  boot.addEnvironment('AWS_EMF_SERVICE_NAME', 'session-app');
  boot.addEnvironment('AWS_EMF_LOG_GROUP_NAME', logGroup.logGroupName);
  // A stream per instance.
  boot.instanceIdVariable = 'AWS_EMF_LOG_STREAM_NAME';
  const config = JSON.stringify({ agent: { run_as_user: 'cwagent' }, logs: { metrics_collected: { emf: {} }, force_flush_interval: 15 } });
  const configFile = '/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json';
  boot.addPackages('amazon-cloudwatch-agent');
  boot.addBootCommands(
    `cat > ${configFile} <<'CLOUDWATCH_AGENT_CONFIG'`,
    config,
    'CLOUDWATCH_AGENT_CONFIG',
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${configFile}`,
  );
  return logGroup;
}
