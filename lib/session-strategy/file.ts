import type { ISessionFileSystem } from '../session-file-system';
import { OneStoreStrategy } from './one-store';
import { ISessionStrategyTarget, SessionStoreKind, SessionStores, SessionStrategyBinding } from './strategy';
import { addStoreEnvironment, requireStore, sessionsOf, signIdsWithStoreKey } from './wiring';

/** Where the `file` strategy mounts the file system on every instance. */
export const SESSION_FILES_MOUNT = '/mnt/sessions';

/**
 * Sessions as files on EFS, mounted through the access point before the app
 * starts; ids signed with the file system's key.
 */
export class FileStrategy extends OneStoreStrategy {
  public readonly name = 'file';
  public readonly survivesInstanceLoss = true;

  constructor(stores: SessionStores) {
    super(SessionStoreKind.FILE_SYSTEM, stores, (other) => new FileStrategy(other));
  }

  public bind(fleet: ISessionStrategyTarget): SessionStrategyBinding {
    const files: ISessionFileSystem = requireStore(fleet, this.stores.fileSystem, 'SessionStrategy.file()', 'fileSystem',
      'SessionStrategy.file(files) with a SessionFileSystem or SessionFileSystem.fromSessionFileSystemAttributes(...)');
    files.connections.allowDefaultPortFrom(fleet, sessionsOf(fleet));
    files.grantReadWrite(fleet);
    fleet.addPackages('amazon-efs-utils');
    fleet.addBootCommands(
      `mkdir -p ${SESSION_FILES_MOUNT}`,
      // _netdev: mounted after the network on every boot; tls and iam: what the file-system policy demands.
      `echo "${files.fileSystem.fileSystemId}:/ ${SESSION_FILES_MOUNT} efs _netdev,noresvport,tls,iam,accesspoint=${files.accessPoint.accessPointId} 0 0" >> /etc/fstab`,
      `mount ${SESSION_FILES_MOUNT}`,
    );
    // The application starts only once the file system is mounted, on every boot; without it,
    // it could write sessions into the instance's own /mnt/sessions.
    fleet.addUnitSetting(`RequiresMountsFor=${SESSION_FILES_MOUNT}`);
    // The unit's file system is read-only but for this.
    fleet.addServiceSetting(`ReadWritePaths=${SESSION_FILES_MOUNT}`);
    fleet.addBootDependency(files.fileSystem.mountTargetsAvailable);
    addStoreEnvironment(fleet, { strategy: 'file', directory: SESSION_FILES_MOUNT });
    return { sessionIdKey: signIdsWithStoreKey(fleet, files) };
  }
}
