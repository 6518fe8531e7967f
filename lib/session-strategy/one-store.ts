import { SessionStoreKind, SessionStores, SessionStrategy } from './strategy';

/**
 * A strategy that needs one thing (a store, or a key it would otherwise
 * create): it lacks it or not, and takes it from what it is offered only
 * when it lacks it. Kept as it is otherwise, so what it made stays shared.
 */
export abstract class OneStoreStrategy extends SessionStrategy {
  /**
   * @param kind what it needs
   * @param stores what it was given; it keeps only `kind`
   * @param copy a strategy of its class with other stores
   */
  protected constructor(
    private readonly kind: SessionStoreKind,
    stores: SessionStores,
    private readonly copy: (stores: SessionStores) => SessionStrategy,
  ) {
    super({ [kind]: stores[kind as keyof SessionStores] });
  }

  public get missingStores(): SessionStoreKind[] {
    return this.has(this.stores) ? [] : [this.kind];
  }

  public withStores(stores: SessionStores): SessionStrategy {
    return this.has(this.stores) || !this.has(stores) ? this : this.copy(stores);
  }

  private has(stores: SessionStores): boolean {
    return stores[this.kind as keyof SessionStores] !== undefined;
  }
}
