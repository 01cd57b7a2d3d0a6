/** The SFTP plugin: `sftp.in` and `sftp.out`, shipped with HIE and loaded by default. */
export { sftpIn } from './sftp-in';
export { sftpOut } from './sftp-out';
export { sha256Fingerprint } from './connection';
export { sftpInSettings, sftpOutSettings, type SftpInSettings, type SftpOutSettings } from './settings';
