// An independent gNOI OS client for the Flash.Svm.Management tests: @grpc/grpc-js with the os.proto, TLS with a
// client certificate. Usage: node client.js HOST:PORT OS_PROTO CA_PEM CERT_PEM KEY_PEM PACKAGE VERSION
// Streams PACKAGE with Install, then Activate(VERSION) and Verify; prints one JSON object and exits 0, or exits 1.
'use strict';
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [address, proto, caPem, certPem, keyPem, pkgPath, version] = process.argv.slice(2);
const def = loader.loadSync(proto, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
const gnoi = grpc.loadPackageDefinition(def).gnoi.os;
const creds = grpc.credentials.createSsl(fs.readFileSync(caPem), fs.readFileSync(keyPem), fs.readFileSync(certPem));
const client = new gnoi.OS(address, creds, { 'grpc.ssl_target_name_override': 'localhost' });
const deadline = () => new Date(Date.now() + 60000);

function install() {
  return new Promise((resolve, reject) => {
    const responses = [];
    const call = client.Install({ deadline: deadline() });
    call.on('data', (r) => {
      responses.push(r);
      if (r.response === 'transferReady') {
        const data = fs.readFileSync(pkgPath);
        for (let o = 0; o < data.length; o += 32768) {
          call.write({ transferContent: data.subarray(o, Math.min(o + 32768, data.length)) });
        }
        call.write({ transferEnd: {} });
        call.end();
      } else if (r.response === 'validated' || r.response === 'installError') {
        call.cancel();
      }
    });
    call.on('error', (e) => (e.code === grpc.status.CANCELLED ? resolve(responses) : reject(e)));
    call.on('end', () => resolve(responses));
    call.write({ transferRequest: { version } });
  });
}

const unary = (name, req) => new Promise((resolve, reject) => client[name](req, { deadline: deadline() }, (e, r) => (e ? reject(e) : resolve(r))));

(async () => {
  try {
    const responses = await install();
    const activate = await unary('Activate', { version });
    const verify = await unary('Verify', {});
    console.log(JSON.stringify({ install: responses.map((r) => r.response), last: responses[responses.length - 1], activate: activate.response, verify }));
    process.exit(0);
  } catch (e) {
    console.error(`gnoi client: ${e.code} ${e.details || e.message}`);
    process.exit(1);
  }
})();
