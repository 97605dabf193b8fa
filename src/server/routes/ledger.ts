/**
 * The ledger API of DESIGN.md §4: signed checkpoints (C2SP tlog-checkpoint), the verifier key,
 * entries, RFC 9162 §2.1.3/§2.1.4 proofs, and a deployment's evidence bundle. Hashes are
 * lowercase hex; any token may read.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ShiplogError } from '../../errors.js';
import { signatureOf } from '../../ledger/note.js';
import { MAX_ENTRIES_PER_READ, type StoredCheckpoint } from '../../store/ledger-repository.js';
import type { AppContext } from '../context.js';
import { ErrorResponse } from './shared.js';

const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

const CheckpointQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('text')])) },
  { additionalProperties: false },
);
const EntriesQuery = Type.Object(
  { start: Index, end: Type.Optional(Index) },
  { additionalProperties: false },
);
const InclusionQuery = Type.Object({ index: Index, size: Index }, { additionalProperties: false });
const ConsistencyQuery = Type.Object({ from: Index, to: Index }, { additionalProperties: false });

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The JSON form of a checkpoint: `signature` is base64(key id || Ed25519 signature), as on the note line. */
function checkpointJson(checkpoint: StoredCheckpoint, keyName: string, keyId: string) {
  return {
    origin: checkpoint.origin,
    size: checkpoint.size,
    rootHash: hex(checkpoint.rootHash),
    signature: signatureOf(checkpoint.note, keyName, keyId)?.signature ?? '',
    keyName,
    keyId,
    note: checkpoint.note,
  };
}

export function registerLedgerRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { ledger } = ctx;

  app.get<{ Querystring: Static<typeof CheckpointQuery> }>(
    '/v1/ledger/checkpoint',
    {
      config: { access: 'audit' },
      schema: {
        summary: 'The latest signed checkpoint (C2SP tlog-checkpoint note); ?format=json for JSON',
        tags: ['ledger'],
        querystring: CheckpointQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function checkpoint(request, reply) {
      const current = await ledger.checkpoint();
      if (request.query.format === 'json') {
        return reply.send(checkpointJson(current, ledger.signer.name, ledger.signer.keyId));
      }
      return reply.type('text/plain; charset=utf-8').send(current.note);
    },
  );

  app.get(
    '/v1/ledger/key',
    {
      config: { access: 'audit' },
      schema: {
        summary: 'The note verifier key of the checkpoint signatures (<name>+<key id>+<base64 key>)',
        tags: ['ledger'],
        response: { '4xx': ErrorResponse },
      },
    },
    async function key(request, reply) {
      return reply.type('text/plain; charset=utf-8').send(ledger.verifierKey);
    },
  );

  app.get<{ Querystring: Static<typeof EntriesQuery> }>(
    '/v1/ledger/entries',
    {
      config: { access: 'audit' },
      schema: {
        summary: `Entries [start, end) (end exclusive, at most ${MAX_ENTRIES_PER_READ}; clamped to the tree size)`,
        tags: ['ledger'],
        querystring: EntriesQuery,
        response: {
          200: Type.Object({
            entries: Type.Array(
              Type.Object({
                index: Type.Integer(),
                leafHash: Hex,
                data: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
          }),
          '4xx': ErrorResponse,
        },
      },
    },
    async function entries(request) {
      const { start } = request.query;
      const end = request.query.end ?? start + MAX_ENTRIES_PER_READ;
      if (end < start) {
        throw new ShiplogError('SHIPLOG_INVALID_REQUEST', `end ${end} is below start ${start}`, [
          { path: 'end', message: 'must not be below start' },
        ]);
      }
      if (end - start > MAX_ENTRIES_PER_READ) {
        throw new ShiplogError(
          'SHIPLOG_INVALID_REQUEST',
          `at most ${MAX_ENTRIES_PER_READ} entries per request (asked for ${end - start})`,
          [{ path: 'end', message: `must be at most start + ${MAX_ENTRIES_PER_READ}` }],
        );
      }
      const rows = await ledger.entries(start, end);
      return {
        entries: rows.map((e) => ({ index: e.index, leafHash: hex(e.leafHash), data: e.data })),
      };
    },
  );

  app.get<{ Querystring: Static<typeof InclusionQuery> }>(
    '/v1/ledger/proof/inclusion',
    {
      config: { access: 'audit' },
      schema: {
        summary: 'RFC 9162 §2.1.3 inclusion proof of entry `index` in the tree of `size` entries',
        tags: ['ledger'],
        querystring: InclusionQuery,
        response: {
          200: Type.Object({ index: Type.Integer(), size: Type.Integer(), hashes: Type.Array(Hex) }),
          '4xx': ErrorResponse,
        },
      },
    },
    async function inclusion(request) {
      const { index, size } = request.query;
      const hashes = await ledger.inclusionProof(index, size);
      return { index, size, hashes: hashes.map(hex) };
    },
  );

  app.get<{ Querystring: Static<typeof ConsistencyQuery> }>(
    '/v1/ledger/proof/consistency',
    {
      config: { access: 'audit' },
      schema: {
        summary: 'RFC 9162 §2.1.4 consistency proof between the trees of `from` and `to` entries',
        tags: ['ledger'],
        querystring: ConsistencyQuery,
        response: {
          200: Type.Object({ from: Type.Integer(), to: Type.Integer(), hashes: Type.Array(Hex) }),
          '4xx': ErrorResponse,
        },
      },
    },
    async function consistency(request) {
      const { from, to } = request.query;
      const hashes = await ledger.consistencyProof(from, to);
      return { from, to, hashes: hashes.map(hex) };
    },
  );

  app.get<{ Params: { deployment: string } }>(
    '/v1/deployments/:deployment/proof',
    {
      config: { access: 'audit' },
      schema: {
        summary: 'Every ledger entry of a deployment with its inclusion proof against one checkpoint',
        tags: ['ledger', 'deployments'],
        params: Type.Object({ deployment: Type.String({ maxLength: 256 }) }),
        response: { '4xx': ErrorResponse },
      },
    },
    async function deploymentProof(request) {
      const { deployment } = request.params;
      const found = await ctx.store.deployments.find(deployment);
      if (!found) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No deployment "${deployment}"`);
      const rows = await ctx.store.deployments.ledgerEntries(deployment);
      let checkpoint = await ledger.checkpoint();
      const last = rows.at(-1);
      if (last && last.index >= checkpoint.size) checkpoint = await ledger.cutCheckpoint();
      const proofs = await ledger.inclusionProofs(
        rows.map((r) => r.index),
        checkpoint.size,
      );
      return {
        deployment,
        checkpoint: checkpointJson(checkpoint, ledger.signer.name, ledger.signer.keyId),
        verifierKey: ledger.verifierKey,
        events: rows.map((r, i) => ({
          id: r.eventId,
          index: r.index,
          leafHash: hex(r.leafHash),
          data: r.data,
          hashes: (proofs[i] ?? []).map(hex),
        })),
      };
    },
  );
}
