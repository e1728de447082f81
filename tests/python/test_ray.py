"""Scale-out on Ray (examples/ray_count.py): counting Parquet shards with Ray Data
`map_batches`, merging and training gives the vocabulary single-process training gives."""

import importlib.util
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pq = pytest.importorskip("pyarrow.parquet")

import polybpe

ROOT = Path(__file__).resolve().parents[2]


def load_example():
    spec = importlib.util.spec_from_file_location("ray_count", ROOT / "examples" / "ray_count.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["ray_count"] = module
    spec.loader.exec_module(module)
    # Ray workers cannot import the example by name: ship its functions by value.
    ray.cloudpickle.register_pickle_by_value(module)
    return module


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_counting_equals_single_process(shared, local_ray, tmp_path):
    table = pq.read_table(shared / "corpus" / "sample.parquet")
    shards = tmp_path / "shards"
    shards.mkdir()
    rows = table.num_rows
    for i in range(4):
        pq.write_table(table.slice(i * rows // 4, (i + 1) * rows // 4 - i * rows // 4), shards / f"part-{i}.parquet")
    example = load_example()
    on_ray = example.train_with_ray([str(shards)], batch_size=50, vocab_size=4000)
    single = polybpe.train(files=[shared / "corpus" / "sample.parquet"], vocab_size=4000)
    assert on_ray.vocab_size == 4000
    assert on_ray.to_str() == single.to_str()
