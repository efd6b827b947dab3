// The official tus Node server (@tus/server + @tus/file-store), the reference of
// bench/tus_bench.py: node server.mjs <port> <directory>; prints "listening" when ready.
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

const [port, directory] = process.argv.slice(2);
if (!port || !directory) {
  console.error("usage: node server.mjs <port> <directory>");
  process.exit(2);
}

const server = new Server({
  path: "/files",
  datastore: new FileStore({ directory }),
});
const http = server.listen({ host: "127.0.0.1", port: Number(port) }, () => {
  console.log(`listening on 127.0.0.1:${port}, storing in ${directory}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => http.close(() => process.exit(0)));
}
