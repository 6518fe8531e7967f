/**
 * The targets registered in each target group, and their health as
 * DescribeTargetHealth reports it, read from HAProxy's health checks:
 * `initial` until the first checks pass, `healthy`, `unhealthy`, `draining`
 * through the deregistration delay, and `unused` while no action forwards to
 * the group.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
 */
import { TargetHealthDescription, TargetHealthReasonEnum } from '@aws-sdk/client-elastic-load-balancing-v2';
import { HEALTH_CHECK, Haproxy, ServerStat } from '../haproxy';

/** One registered target: an app process in a slot of its group's backend. */
interface Target {
  /** The instance id it is registered by (`i-...`). */
  readonly id: string;
  /** The lab's name of the process (`green-3`). */
  readonly name: string;
  readonly group: string;
  readonly slot: string;
  readonly port: number;
  readonly registeredAt: number;
  /**
   * HAProxy's count of failed checks when its initial checks began (at
   * registration, or when its group came into use): failures since then
   * count toward `unhealthy`. An unused group's targets get no checks from the
   * ALB, so the failures HAProxy saw while it was unused do not count.
   */
  failuresAtStart: number;
  /** The `usedSince` its `failuresAtStart` was taken for. */
  failuresCountedFrom?: number;
  /** Once HAProxy has seen it healthy after its initial checks, it is out of `initial` for good. */
  passedInitial: boolean;
  /** Set when deregistered: it drains until then, and is gone after. */
  drainingUntil?: number;
}

/** Health states by the reason codes of the TargetHealth API reference. */
const UNHEALTHY_REASON: Record<string, TargetHealthReasonEnum> = {
  L7STS: 'Target.ResponseCodeMismatch',
  L4TOUT: 'Target.Timeout',
  L7TOUT: 'Target.Timeout',
};

/** Every target group's targets: their slots in HAProxy, registration and deregistration times, and health. */
export class TargetRegistry {
  private readonly targets = new Map<string, Target>();
  /** When each group last went from no action to some: its targets are checked again from then (initial). */
  private readonly usedSince = new Map<string, number>();
  private nextId = 1;
  /** The slot each group handed out last: slots are taken in turn, so a new target rarely inherits an old one's AWSALB cookies. */
  private readonly lastSlot = new Map<string, number>();

  constructor(private readonly haproxy: Haproxy, private readonly deregistrationDelayMs: number) {}

  /**
   * Registers a process in a group: it takes a free slot of the group's
   * backend, and is `initial` (Elb.RegistrationInProgress, then
   * Elb.InitialHealthChecking) until a health check passes.
   */
  public async register(group: string, name: string, port: number): Promise<string> {
    if (this.byName(name)) {
      throw new Error(`${name} is already registered`);
    }
    const slots = this.haproxy.slots(group);
    const taken = new Set([...this.targets.values()].filter((t) => t.group === group).map((t) => t.slot));
    const from = this.lastSlot.get(group) ?? -1;
    const index = slots.findIndex((_, i) => !taken.has(slots[(from + 1 + i) % slots.length]));
    if (index < 0) {
      throw new Error(`target group ${group} has no free slot for ${name}: its ${slots.length} slots hold ${[...taken].join(', ')}`);
    }
    const slotIndex = (from + 1 + index) % slots.length;
    this.lastSlot.set(group, slotIndex);
    const slot = slots[slotIndex];
    const stat = (await this.haproxy.servers()).get(slot);
    await this.haproxy.enable(group, slot, port);
    const id = `i-0${(this.nextId++).toString(16).padStart(16, '0')}`;
    this.targets.set(id, { id, name, group, slot, port, registeredAt: Date.now(), failuresAtStart: stat?.checkFailures ?? 0, passedInitial: false });
    return id;
  }

  /**
   * Deregisters a process: no new request reaches it, and it is `draining`
   * (Target.DeregistrationInProgress) through the deregistration delay, then
   * gone from its group. Resolves when the delay is over, when an Auto
   * Scaling group would terminate the instance.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
   */
  public async deregister(name: string): Promise<void> {
    const target = this.byName(name);
    if (!target || target.drainingUntil !== undefined) {
      throw new Error(`${name} is not registered`);
    }
    await this.haproxy.disable(target.group, target.slot);
    target.drainingUntil = Date.now() + this.deregistrationDelayMs;
    await new Promise((r) => setTimeout(r, this.deregistrationDelayMs));
    this.targets.delete(target.id);
  }

  /** The HAProxy slot a registered process holds. */
  public slotOf(name: string): string | undefined {
    return this.byName(name)?.slot;
  }

  /** The lab's name of a registered target, by its id. */
  public nameOf(id: string): string | undefined {
    return this.targets.get(id)?.name;
  }

  private byName(name: string): Target | undefined {
    return [...this.targets.values()].find((t) => t.name === name);
  }

  /** Tells the registry which groups some action now forwards to: a group that was unused is checked again from now. */
  public used(groups: ReadonlySet<string>): void {
    for (const group of groups) {
      if (!this.usedSince.has(group)) {
        this.usedSince.set(group, Date.now());
      }
    }
    for (const group of [...this.usedSince.keys()]) {
      if (!groups.has(group)) {
        this.usedSince.delete(group);
        for (const t of this.targets.values()) {
          if (t.group === group) {
            t.passedInitial = false;
          }
        }
      }
    }
  }

  /** DescribeTargetHealth's answer for a group: every target registered or draining, in registration order. */
  public async describe(group: string): Promise<TargetHealthDescription[]> {
    const stats = await this.haproxy.servers();
    const now = Date.now();
    return [...this.targets.values()].filter((t) => t.group === group)
      .map((t) => ({
        Target: { Id: t.id, Port: t.port },
        HealthCheckPort: String(t.port),
        TargetHealth: this.health(t, stats.get(t.slot), now),
      }));
  }

  /** A target's state and reason, from its registration, its group's use and HAProxy's checks. */
  private health(t: Target, stat: ServerStat | undefined, now: number): NonNullable<TargetHealthDescription['TargetHealth']> {
    if (t.drainingUntil !== undefined) {
      return { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' };
    }
    const usedSince = this.usedSince.get(t.group);
    if (usedSince === undefined) {
      // "Target.NotInUse - The target group is not used by any load balancer": no health checks either.
      return { State: 'unused', Reason: 'Target.NotInUse', Description: 'Target group is not configured to receive traffic from the load balancer' };
    }
    const status = stat?.status ?? '';
    if (t.failuresCountedFrom !== usedSince) {
      t.failuresCountedFrom = usedSince;
      if (usedSince > t.registeredAt) {
        t.failuresAtStart = stat?.checkFailures ?? 0;
      }
    }
    if (!t.passedInitial) {
      // The initial checks: at least one interval (× the healthy threshold) after registration, or after the group came into use.
      const checkedFrom = Math.max(t.registeredAt, usedSince) + HEALTH_CHECK.rise * this.haproxy.checkIntervalMs;
      if (status.startsWith('UP') && stat?.checkStatus !== 'INI' && now >= checkedFrom) {
        t.passedInitial = true;
      } else if ((stat?.checkFailures ?? 0) - t.failuresAtStart >= HEALTH_CHECK.fall && now >= checkedFrom) {
        return this.unhealthy(stat);
      } else {
        return now < t.registeredAt + this.haproxy.checkIntervalMs
          ? { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' }
          : { State: 'initial', Reason: 'Elb.InitialHealthChecking', Description: 'Initial health checks in progress' };
      }
    }
    // `UP 1/2` is a target failing its checks but not yet past the unhealthy threshold: still healthy, as on the ALB.
    return status.startsWith('UP') ? { State: 'healthy' } : this.unhealthy(stat);
  }

  private unhealthy(stat: ServerStat | undefined): NonNullable<TargetHealthDescription['TargetHealth']> {
    const reason = UNHEALTHY_REASON[stat?.checkStatus ?? ''] ?? 'Target.FailedHealthChecks';
    return { State: 'unhealthy', Reason: reason, Description: `Health checks failed (HAProxy: ${stat?.checkStatus ?? 'no check'})` };
  }
}
