/** The baseline server: a bare Fastify route that parses the same JSON body and does no work. */
import Fastify from 'fastify';

const app = Fastify();
app.post('/v1/events', async (_request, reply) => reply.status(201).send({ results: [] }));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stderr.write(
  `listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`,
);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
