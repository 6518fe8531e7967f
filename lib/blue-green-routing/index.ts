export { BlueGreenRouting } from './blue-green-routing';
export type { BlueGreenRoutingProps, TestTrafficOptions } from './props';
