import t from 'tap';
import { InvalidVersionError, UpshiftError, VersionExistsError, VersionNotFoundError } from '../../src/core/errors.js';
import {
  BadBodyError, BodyTooLargeError, MethodNotAllowedError, NoLauncherError, PathNotFoundError, StateFileError, UnauthorizedError, restStatus,
} from '../../src/sidecar/errors.js';

// Every failure of the config API is a coded error; one table gives its status.
t.test('each coded failure maps to its status, anything else is a 500', async (t) => {
  const cases: Array<[UpshiftError, string, number, string | undefined]> = [
    [new InvalidVersionError('cluster.servers', 'x'), 'UPS_ERR_INVALID_VERSION', 400, 'cluster.servers'],
    [new BadBodyError('body', 'is empty'), 'UPS_ERR_BAD_BODY', 400, 'body'],
    [new NoLauncherError('no engine'), 'UPS_ERR_NO_LAUNCHER', 400, 'cluster.containers'],
    [new UnauthorizedError('invalid token'), 'UPS_ERR_UNAUTHORIZED', 401, 'authorization'],
    [new PathNotFoundError('/x', '/status'), 'UPS_ERR_NOT_FOUND', 404, 'path'],
    [new VersionNotFoundError('v9'), 'UPS_ERR_VERSION_NOT_FOUND', 404, 'uuid'],
    [new MethodNotAllowedError('POST', ['GET', 'PUT']), 'UPS_ERR_METHOD_NOT_ALLOWED', 405, 'method'],
    [new VersionExistsError('v1'), 'UPS_ERR_VERSION_EXISTS', 409, 'uuid'],
    [new BodyTooLargeError(1024), 'UPS_ERR_BODY_TOO_LARGE', 413, 'body'],
    [new StateFileError('/s.json', 'cannot be written: ENOSPC'), 'UPS_ERR_STATE_FILE', 500, 'stateFile'],
  ];
  for (const [err, code, status, field] of cases) {
    t.equal(err.code, code, `${err.name} has code ${code}`);
    t.equal(err.field, field, `${err.name} names field ${String(field)}`);
    t.equal(restStatus(err), status, `${code} answers ${status}`);
  }
  t.equal(new MethodNotAllowedError('POST', ['GET', 'PUT']).message, 'method POST not allowed here (allowed: GET, PUT)');
  t.equal(restStatus(new Error('boom')), 500, 'an uncoded error is a 500');
  t.equal(restStatus(null), 500);
});
