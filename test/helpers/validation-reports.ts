/**
 * aws-cdk-lib prints every synth's validation report to console.error, our
 * constructs' warnings included (the HTTP-only warning of a tier without a
 * certificate, say), and points at a report file the test's cleanup deletes.
 * Those warnings are asserted where they matter (Annotations.fromStack); here
 * a report that holds only them is kept quiet. Anything else in a report (an
 * error, a warning that is not ours) still prints, so nothing new goes unseen.
 */

/** Whether `text` is a validation report whose every finding is a warning of ours. */
export function onlyOurWarnings(text: string): boolean {
  if (!/\nA copy of this report can be found in: \S+$/.test(text.trimEnd())) {
    return false;
  }
  const body = text.slice(0, text.lastIndexOf('A copy of this report'));
  const findings = body.split(/\n(?=(?:WARNING|ERROR) )/).map((f) => f.trim()).filter((f) => f !== '');
  return findings.length > 0 && findings.every((f) => f.startsWith('WARNING ') && /^\s*Acknowledge with 'Annotation::cdk-session-tier:\w+'$/m.test(f));
}

// Installed once per test file, before its describe blocks synthesize anything.
const print = console.error.bind(console);
console.error = (...args: unknown[]) => {
  if (args.length === 1 && typeof args[0] === 'string' && onlyOurWarnings(args[0])) {
    return;
  }
  print(...args);
};
