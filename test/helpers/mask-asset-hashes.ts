/**
 * Jest snapshot serializer that masks 64-hex asset hashes, so a snapshot of a
 * template does not change whenever an asset's content (the sample app bundle,
 * a Lambda handler) changes. The template around the hash is still compared.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;

const serializer: jest.SnapshotSerializerPlugin = {
  test: (value: unknown) => typeof value === 'string' && /[0-9a-f]{64}/.test(value),
  serialize: (value: string, config, indentation, depth, refs, printer) =>
    printer(value.replace(ASSET_HASH, '[HASH REMOVED]'), config, indentation, depth, refs),
};

module.exports = serializer;
