import t from 'tap';
import { chooseLeg, type LegState } from '../../../src/core/connection/choose.js';

const leg = (outcome: LegState['outcome'], status = 0, socket: unknown = status ? {} : null): LegState => ({ outcome, status, socket });

t.test('the newest good answer wins once every newer one failed', async (t) => {
  const good = leg('good', 200);
  t.equal(chooseLeg([good, leg('pending')]), good, 'the newest good answer does not wait for older ones');
  t.equal(chooseLeg([leg('pending'), leg('good', 200)]), undefined, 'an older good answer waits for the newest');
  const older = leg('good', 200);
  t.equal(chooseLeg([leg('bad', 500), older]), older, 'a 5xx from the newest gives way to the previous');
  t.equal(chooseLeg([leg('bad'), older]), older, 'so does a newest that never answered');
});

t.test('when every leg failed: the previous version\'s answer, whatever its status, else nothing', async (t) => {
  const previous5xx = leg('bad', 500);
  t.equal(chooseLeg([leg('bad', 502), previous5xx]), previous5xx, 'both 5xx: the previous version\'s 5xx (the thesis\'s rule)');
  const oldest5xx = leg('bad', 504);
  t.equal(chooseLeg([leg('bad', 502), leg('bad', 503), oldest5xx]), oldest5xx, 'with three legs, the oldest that answered');
  const newest5xx = leg('bad', 502);
  t.equal(chooseLeg([newest5xx, leg('bad')]), newest5xx, 'a previous version that never answered leaves the newest\'s 5xx');
  t.equal(chooseLeg([leg('bad', 502), leg('pending')]), undefined, 'a 5xx waits for the previous version');
  const old5xx = leg('bad', 503);
  t.equal(chooseLeg([leg('bad'), old5xx]), old5xx);
  t.equal(chooseLeg([leg('bad'), leg('bad')]), null);
  t.equal(chooseLeg([leg('bad', 500, null)]), null, 'an answer whose socket is gone cannot be sent');
});
