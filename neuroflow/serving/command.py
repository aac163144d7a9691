"""``neuroflow serve``: TensorFlow Serving's REST API for ``.keras`` models.

Flags are tensorflow_model_server's, for what this server does (it has no gRPC API); its
other flags are refused with a message rather than ignored.
"""

from __future__ import annotations

import argparse
import logging
import sys

from neuroflow.serving import text_proto
from neuroflow.serving.app import DEFAULT_MAX_BODY_BYTES, METRICS_PATH
from neuroflow.serving.server import ModelServer

# tensorflow_model_server flags this server does not implement, and why.
UNSUPPORTED_FLAGS = {
    "port": "it serves the REST API only (no gRPC); use --rest_api_port",
    "grpc_socket_path": "it has no gRPC API",
    "grpc_channel_arguments": "it has no gRPC API",
    "grpc_max_threads": "it has no gRPC API",
    "ssl_config_file": "it serves plain HTTP; put a TLS proxy in front of it",
    "platform_config_file": "it serves .keras models only",
    "model_config_file_poll_wait_seconds": "the model config file is read once at start",
    "tensorflow_session_parallelism": "neuroflow sets its threads itself",
    "tensorflow_intra_op_parallelism": "neuroflow sets its threads itself",
    "tensorflow_inter_op_parallelism": "neuroflow sets its threads itself",
    "per_process_gpu_memory_fraction": "it runs models on the CPU",
    "saved_model_tags": "it serves .keras files, which have no tags",
    "enable_model_warmup": "every version is always warmed with one predict before serving",
    "rest_api_enable_cors_support": "CORS is not supported",
    "allow_version_labels_for_unavailable_models": "labels may name any configured version",
    "use_tflite_model": "it serves .keras models only",
}


def _boolean(text: str) -> bool:
    value = text.lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, received {text!r}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuroflow serve",
        description="Serve .keras models over TensorFlow Serving's REST API.",
        epilog="Routes: /v1/models/NAME[/versions/N|/labels/L][/metadata|:predict], "
               f"{METRICS_PATH} (Prometheus), /healthz (200 once every model serves).")
    add = parser.add_argument
    add("--rest_api_port", type=int, default=8501,
        help="port of the REST API (default 8501; 0 picks a free port and prints it)")
    add("--rest_api_host", default="0.0.0.0",
        help="address to listen on (default 0.0.0.0, every interface, as TensorFlow Serving)")
    add("--model_name", default="default", help="name of the model (default: default)")
    add("--model_base_path", default="",
        help="folder holding numbered version folders, each with one .keras file")
    add("--model_config_file", default="",
        help="text protobuf ModelServerConfig with a model_config_list (several models)")
    add("--enable_batching", type=_boolean, nargs="?", const=True, default=False,
        help="merge concurrent requests into batches")
    add("--batching_parameters_file", default="",
        help="text protobuf BatchingParameters (max_batch_size { value: 32 } ...)")
    add("--file_system_poll_wait_seconds", type=float, default=1.0,
        help="seconds between looks for new versions (0: look once at start)")
    add("--rest_api_timeout_in_ms", type=int, default=30000,
        help="longest a request may take, body upload included (default 30000)")
    add("--rest_api_num_threads", type=int, default=0,
        help="threads that parse requests and run unbatched predicts (default: 4 per core)")
    add("--rest_api_max_body_bytes", type=int, default=DEFAULT_MAX_BODY_BYTES,
        help=f"larger request bodies get 413 (default {DEFAULT_MAX_BODY_BYTES})")
    add("--monitoring_config_file", default="",
        help="text protobuf MonitoringConfig: prometheus_config { enable: true path: ... }")
    return parser


def _refuse_unsupported(argv: list[str], parser: argparse.ArgumentParser) -> None:
    for arg in argv:
        flag = arg[2:].split("=", 1)[0] if arg.startswith("--") else ""
        if flag in UNSUPPORTED_FLAGS:
            parser.error(f"--{flag} is a tensorflow_model_server flag this server does not "
                         f"support: {UNSUPPORTED_FLAGS[flag]}")


def build_server(args, parser) -> ModelServer:
    """The server the parsed flags describe (configuration errors via ``parser.error``)."""
    try:
        if args.model_config_file:
            if args.model_base_path:
                parser.error("give either --model_config_file or --model_base_path, not both")
            configs = text_proto.model_config_list(text_proto.read(args.model_config_file),
                                                   args.model_config_file)
        elif args.model_base_path:
            configs = [text_proto.ModelConfig(args.model_name, args.model_base_path)]
        else:
            parser.error("give --model_base_path (one model) or --model_config_file")
        batching = None
        if args.batching_parameters_file and not args.enable_batching:
            parser.error("--batching_parameters_file needs --enable_batching")
        if args.enable_batching:
            batching = (text_proto.batching_parameters(
                text_proto.read(args.batching_parameters_file), args.batching_parameters_file)
                if args.batching_parameters_file else text_proto.BatchingParameters())
        metrics_path = METRICS_PATH
        if args.monitoring_config_file:
            metrics_path = text_proto.prometheus_path(
                text_proto.read(args.monitoring_config_file), args.monitoring_config_file)
    except text_proto.TextFormatError as error:
        parser.error(str(error))
    if args.file_system_poll_wait_seconds < 0:
        parser.error("--file_system_poll_wait_seconds must be 0 (look once) or more; waiting "
                     "for a first version at start is not supported")
    for flag in ("rest_api_timeout_in_ms", "rest_api_num_threads", "rest_api_max_body_bytes"):
        if getattr(args, flag) < 0:
            parser.error(f"--{flag} must be at least 0, received {getattr(args, flag)}")
    return ModelServer(configs, batching, args.file_system_poll_wait_seconds,
                       args.rest_api_timeout_in_ms, args.rest_api_max_body_bytes or
                       DEFAULT_MAX_BODY_BYTES, args.rest_api_num_threads or None, metrics_path)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    _refuse_unsupported(argv, parser)
    args = parser.parse_args(argv)
    server = build_server(args, parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def listening(port: int) -> None:
        # The line TensorFlow Serving prints, which scripts wait for.
        print(f"Exporting HTTP/REST API at:{args.rest_api_host}:{port} ...", flush=True)

    server.serve_forever(args.rest_api_host, args.rest_api_port, listening)
    return 0
