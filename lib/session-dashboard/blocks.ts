import { Duration, Tokenization } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** One alarm of a dashboard part. */
export interface PartAlarmProps {
  /** What the alarm means, for whoever it pages. */
  readonly description: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  /** Periods in a row that must breach (each must: `datapointsToAlarm` is the same). */
  readonly evaluationPeriods: number;
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
}

/**
 * The one shape of this library's alarms: every period of the window must
 * breach, and no data is no traffic, or a store not in use yet, which is not
 * a reason to page or to stop a release.
 */
export function partAlarm(scope: Construct, id: string, props: PartAlarmProps): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: props.description,
    metric: props.metric,
    threshold: props.threshold,
    evaluationPeriods: props.evaluationPeriods,
    datapointsToAlarm: props.evaluationPeriods,
    comparisonOperator: props.comparisonOperator,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** A graph of the one size every part uses: three to a row. */
export function graph(title: string, metrics: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width: 8, height: 6 });
}

/**
 * A threshold as an alarm's description shows it: `5`, `1 second`, or a
 * `CfnParameter`'s value, resolved by CloudFormation (a token's own text,
 * -1.888e+289, never reaches the template).
 */
export function shown(value: number | Duration): string {
  if (typeof value === 'number') {
    return Tokenization.stringifyNumber(value);
  }
  return value.isUnresolved() ? value.formatTokenToNumber() : value.toHumanString();
}

/** A duration threshold in seconds, as CloudWatch compares it (a token in seconds stays one). */
export function inSeconds(value: Duration): number {
  return value.toSeconds({ integral: false });
}
