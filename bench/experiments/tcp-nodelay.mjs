// What TCP_NODELAY would do to the mqtt suite (issue 9): preload it to turn Nagle's algorithm off
// on every socket this process opens or accepts (the agent's client, the embedded broker, the
// bench's client). Mosquitto needs `set_tcp_nodelay true` in its own config for its side, which the
// bench adds with REASOND_BENCH_TCP_NODELAY=1:
//   REASOND_BENCH_TCP_NODELAY=1 node --import ./bench/experiments/tcp-nodelay.mjs dist/cli/index.js bench --suite mqtt
// An experiment, not product code: the fix belongs in src/mqtt (mqtt.js and aedes leave Nagle on).
import net from 'node:net';

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  this.setNoDelay(true);
  return connect.apply(this, args);
};
const emit = net.Server.prototype.emit;
net.Server.prototype.emit = function (event, socket, ...rest) {
  if (event === 'connection') socket.setNoDelay(true);
  return emit.call(this, event, socket, ...rest);
};
