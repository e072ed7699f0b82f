"""One tenant's stalled media fetches cannot starve another tenant (issue: security, item 3).

Tenant `hog` queues four runs whose only media URL drips a byte every half second (never
stalling long enough for the stall timeout); tenant `quiet` then queues one run with a local
file. With three upload slots and at most two per tenant, quiet's run must be uploaded and reach
ANNOTATING while hog's runs are still uploading or waiting."""

from __future__ import annotations

import socket
import threading

from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from server.waiting import wait_until
from upload.support import (
    Sim, create_run, field_schema, header, image_sample, make_image, media, wait_run,
)

from .support import new_token, tenant_stub


class DrippingServer:
    """Answers every request with a 10 MB Content-Length, then one byte every half second."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                             b"Content-Length: 10000000\r\n\r\n")
                while not self.stopped.wait(0.5):
                    conn.sendall(b"x")
            except OSError:
                return

    def stop(self):
        self.stopped.set()
        self.sock.close()


def test_a_tenants_dripping_urls_do_not_starve_another_tenant(auth_server, tenants, tmp_path,
                                                              tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("sim"))
    drip = DrippingServer()
    try:
        hog_token, quiet_token = new_token(), new_token()
        tenants.add("hog", tokens=[hog_token], api_key=sim.api_key)
        tenants.add("quiet", tokens=[quiet_token], api_key=sim.api_key)
        (tmp_path / "img").mkdir()
        server = auth_server(tenants, media_root=str(tmp_path / "img"), args=[
            "--darwin_url", sim.url, "--darwin_rate_limit_per_minute", "6000",
            "--max_concurrent_runs", "3", "--max_concurrent_runs_per_tenant", "2",
            "--media_url_allow", "127.0.0.1/32", "--drain_seconds", "1"])
        hog = tenant_stub(server.channel, hog_token)
        quiet = tenant_stub(server.channel, quiet_token)
        fields = [field_schema("dets", "detections", ["car"])]

        for k in range(4):
            create_run(hog, header(f"hog{k}", fields, slug=f"hog-{k}"),
                       [image_sample("h", media(url=f"http://127.0.0.1:{drip.port}/{k}.png"))])
        # hog's jobs have started fetching (two of them: its per-tenant limit).
        wait_until(lambda: drip.connections >= 2, 30, "two of hog's media fetches")

        image = make_image(tmp_path / "img" / "a.png")
        create_run(quiet, header("calm", fields, slug="quiet"), [image_sample("q", media(path=image))])
        done = wait_run(quiet, "datasets/uploads/runs/calm", timeout=60)
        assert done.state == run_pb.RUN_STATE_ANNOTATING, done
        assert done.progress.samples_completed == 1

        # hog's runs are all still in flight, and at most two of them were ever fetching.
        for k in range(4):
            run = hog.GetRun(svc.GetRunRequest(name=f"datasets/uploads/runs/hog{k}"),
                             timeout=10).run
            assert run.state in (run_pb.RUN_STATE_PENDING, run_pb.RUN_STATE_UPLOADING), run
        assert drip.connections == 2
    finally:
        drip.stop()
        sim.stop()
