export * from './props';
export { AppFleet } from './app-fleet';
