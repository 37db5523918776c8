// `serve --inspect`: every actor (instances, mode, gate) is connected to the Stately
// inspector through @statelyai/inspect's WebSocket inspector. The page a person opens and the
// relay it listens to are served here, on loopback only: the package's own
// createInspectorServer listens on every interface and stops the process when its port is
// taken, and inspection events carry every actor's context.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { WebSocket, WebSocketServer } from 'ws';
import type { InspectionEvent, Observer } from 'xstate';

/** Recent inspection events replayed to a page that connects late. */
const REPLAY = 500;

function page(inspectorUrl: string): string {
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>token-api: Stately inspector</title>
  <style>* { margin: 0; padding: 0; } html, body { height: 100%; } iframe { width: 100%; height: 100%; border: none; }</style>
</head>
<body>
  <iframe id="inspector" src="${inspectorUrl}"></iframe>
  <script>
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        for (const event of buffer) iframe.contentWindow.postMessage(event, '*');
        buffer.length = 0;
      }
    });
    const ws = new WebSocket('ws://' + location.host);
    ws.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
}

export interface InspectorHandle {
  /** The page to open in a browser. */
  url: string;
  /** The observer actors are connected to. */
  inspect: Observer<InspectionEvent>;
  close(): Promise<void>;
}

export async function startInspector(o: { port: number; inspectorUrl?: string }): Promise<InspectorHandle> {
  const html = page(o.inspectorUrl ?? 'https://stately.ai/inspect');
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  });
  const wss = new WebSocketServer({ server });
  // The relay re-emits the HTTP server's errors; listen failures are handled below.
  wss.on('error', () => undefined);
  const recent: string[] = [];
  wss.on('connection', (ws) => {
    for (const msg of recent) ws.send(msg);
    // The inspector client in this process sends events; pages receive them.
    ws.on('message', (data) => {
      const msg = data.toString();
      recent.push(msg);
      if (recent.length > REPLAY) recent.shift();
      for (const client of wss.clients) if (client !== ws && client.readyState === WebSocket.OPEN) client.send(msg);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}`, maxDeferredEvents: REPLAY });
  return {
    url: `http://127.0.0.1:${port}`,
    inspect: inspector.inspect,
    async close() {
      inspector.stop();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
