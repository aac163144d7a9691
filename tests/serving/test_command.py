"""``neuroflow serve``: tensorflow_model_server's flags, in-process and as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from neuroflow import cli


def _serve(capsys, *argv) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        cli.main(["serve", *argv])
    return info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--port=8500", "--model_base_path=/m"], "--port is a tensorflow_model_server flag"),
    (["--ssl_config_file", "x", "--model_base_path=/m"], "plain HTTP"),
    (["--rest_api_port=1"], "give --model_base_path"),
    (["--model_base_path=/m", "--model_config_file=/c"], "not both"),
    (["--model_base_path=/m", "--batching_parameters_file=/b"], "needs --enable_batching"),
    (["--model_base_path=/m", "--file_system_poll_wait_seconds=-1"], "must be 0"),
    (["--model_base_path=/m", "--enable_batching=maybe"], "expected true or false"),
    (["--model_base_path=/m", "--no_such_flag=1"], "unrecognized arguments"),
])
def test_flag_errors(capsys, argv, message):
    code, err = _serve(capsys, *argv)
    assert code == 2
    assert message in err


def test_config_file_errors_name_the_file(tmp_path, capsys):
    config = tmp_path / "models.config"
    config.write_text('model_config_list { config { name: "a" base_path: "/a" bad: 1 } }')
    code, err = _serve(capsys, f"--model_config_file={config}")
    assert code == 2 and str(config) in err and "'bad'" in err
    assert cli.main(["serve", f"--model_config_file={tmp_path / 'missing'}"]) == 1
    assert "No such file or directory" in capsys.readouterr().err


def test_serve_subprocess_with_config_and_batching(tmp_path, helpers):
    requests = pytest.importorskip("requests")
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    helpers.save_version(tmp_path / "a", 1, helpers.dense_model(1))
    helpers.save_version(tmp_path / "b", 3, helpers.dense_model(2, features=2, units=2))
    config = tmp_path / "models.config"
    config.write_text(f"""model_config_list {{
        config {{ name: "a" base_path: "{tmp_path / 'a'}" }}
        config {{ name: "b" base_path: "{tmp_path / 'b'}"
                 version_labels {{ key: "stable" value: 3 }} }} }}""")
    batching = tmp_path / "batching.config"
    batching.write_text("max_batch_size { value: 8 } batch_timeout_micros { value: 1000 }")
    process = subprocess.Popen(
        [sys.executable, "-m", "neuroflow", "serve", "--rest_api_port=0",
         "--rest_api_host=127.0.0.1", f"--model_config_file={config}", "--enable_batching",
         f"--batching_parameters_file={batching}", "--file_system_poll_wait_seconds=0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = process.stdout.readline()
        assert line.startswith("Exporting HTTP/REST API at:127.0.0.1:"), \
            line + process.stderr.read()
        url = "http://" + line.split("at:")[1].split()[0]
        answer = requests.post(url + "/v1/models/a:predict",
                               json={"instances": [[1, 2, 3, 4]]}, timeout=30)
        assert answer.status_code == 200 and len(answer.json()["predictions"][0]) == 3
        answer = requests.post(url + "/v1/models/b/labels/stable:predict",
                               json={"inputs": [[1, 2]]}, timeout=30)
        assert answer.status_code == 200 and len(answer.json()["outputs"][0]) == 2
        assert requests.get(url + "/healthz", timeout=30).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    # Uvicorn finishes the open requests, then re-raises SIGTERM: the exit says why it ended.
    assert process.returncode in (0, -signal.SIGTERM), err
