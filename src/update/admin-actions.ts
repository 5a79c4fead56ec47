/**
 * The agent's model admin actions (issue 6), merged into its handler table:
 * <base>/<device>/request/model/{deploy,activate,rollback,list}. A deploy is
 * answered once its manifest passed the checks (or was refused); progress
 * and the outcome follow on <base>/<device>/events.
 */
import { ReasondError } from '../core/errors.js';
import type { RequestHandler } from '../mqtt/index.js';
import { isSemver } from '../package/semver.js';
import type { Updater } from './updater.js';

function versionRef(body: Record<string, unknown>): { name: string; version: string } {
  const { name, version } = body;
  if (typeof name !== 'string' || name.length === 0) throw new ReasondError('invalid_request', `name must be the package name; got ${JSON.stringify(name)}`);
  if (!isSemver(version)) throw new ReasondError('invalid_request', `version must be semver (1.2.3); got ${JSON.stringify(version)}`);
  return { name, version };
}

export function modelActions(updater: Updater): Record<string, RequestHandler> {
  return {
    'model/deploy': async (body) => {
      const ref = versionRef(body);
      const url = body.url;
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new ReasondError('invalid_request', `url must be the package folder's http(s) URL; got ${JSON.stringify(url)}`);
      if (body.allow_downgrade !== undefined && typeof body.allow_downgrade !== 'boolean') {
        throw new ReasondError('invalid_request', `allow_downgrade must be true or false; got ${JSON.stringify(body.allow_downgrade)}`);
      }
      const r = await updater.deploy({ ...ref, url, allow_downgrade: body.allow_downgrade as boolean | undefined });
      r.done.catch(() => {}); // the outcome goes out as an event
      return { name: r.name, version: r.version, state: r.steps.length ? 'accepted' : 'active', steps: r.steps };
    },
    'model/activate': async (body) => {
      const ref = versionRef(body);
      await updater.activate(ref);
      return { active: `${ref.name}@${ref.version}` };
    },
    'model/rollback': async (body) => {
      const reason = typeof body.reason === 'string' ? body.reason : 'requested by an operator';
      return updater.rollback(reason);
    },
    'model/list': async () => updater.list(),
  };
}
