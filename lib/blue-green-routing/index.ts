export { BlueGreenRouting } from './blue-green-routing';
export type { BlueGreenRoutingProps, TestTrafficOptions } from './props';
export { DEFAULT_GROUP_STICKINESS, DEFAULT_SHIFT_RULE_PRIORITY } from './props';
export { routingStickinessProblems } from './resolve-props';
