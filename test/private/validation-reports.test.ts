import { onlyOurWarnings } from '../helpers/validation-reports';

const report = (findings: string) => `${findings}\n\nA copy of this report can be found in: /tmp/cdk.outX/validation-report.json`;
const ours = `WARNING certificateArn: not set, so the tier serves plain HTTP (Annotation)
   Test/Tier constructs.Construct
   Acknowledge with 'Annotation::cdk-session-tier:httpOnly'`;

test('a report of only our own warnings is kept quiet', () => {
  expect(onlyOurWarnings(report(ours))).toBe(true);
  expect(onlyOurWarnings(report(`${ours}\n\n${ours.replace('httpOnly', 'memoryWithoutStickiness')}`))).toBe(true);
});

test.each([
  ['an error', `${ours}\n\nERROR GroupId: 'sg-x' does not match format (CloudFormation Validate)\n   Acknowledge with 'CloudFormation-Validate::E1150'`],
  ['a warning of someone else', `${ours}\n\nWARNING something of aws-cdk-lib (Annotation)\n   Acknowledge with 'Annotation::@aws-cdk/core:x'`],
  ['no finding', ''],
])('a report with %s still prints', (_, findings) => {
  expect(onlyOurWarnings(report(findings))).toBe(false);
});

test('what is not a validation report still prints', () => {
  expect(onlyOurWarnings(ours)).toBe(false);
});
