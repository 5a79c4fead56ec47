/**
 * Why a server could not listen, as a stable error (issue 17): a port already in use is
 * `port_in_use` naming the setting to change, an address or port not allowed is `invalid_config`;
 * neither is `internal` (which docs/API.md keeps for bugs).
 */
import { ReasondError } from './errors.js';

export function listenError(e: NodeJS.ErrnoException, what: string, host: string, port: number, setting: string, hint = ''): ReasondError {
  const where = `${host}:${port}`;
  if (e.code === 'EADDRINUSE') return new ReasondError('port_in_use', `${what} cannot listen on ${where}: the port is in use${hint}; choose another with ${setting}`);
  if (e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
    return new ReasondError('invalid_config', `${what} cannot listen on ${where}: ${e.code}${e.code === 'EACCES' ? ' (ports below 1024 need privileges)' : ' (not an address of this machine)'}; change ${setting}`);
  }
  return new ReasondError('internal', `${what} cannot listen on ${where}: ${e.code ?? e.message}`);
}
