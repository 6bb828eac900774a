"""The Spark engine: a local SparkSession over the same Parquet files, as an Ibis backend.

Only ``--engine spark`` imports this (pyspark is the ``breachscope[spark]`` extra). Spark runs
in local mode with the session time zone pinned to UTC so timestamps read as stored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from breachscope.schema import TABLES

SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "2g",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
}


def spark_session() -> Any:
    """A local SparkSession (one per process)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYTHON", "python3"))
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("breachscope")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_schema(table: str) -> Any:
    """The Spark schema of a table, from its Arrow schema."""
    from pyspark.sql import types as T

    def convert(kind: Any) -> Any:
        import pyarrow as pa

        if pa.types.is_timestamp(kind):
            return T.TimestampType()
        if pa.types.is_int64(kind):
            return T.LongType()
        if pa.types.is_boolean(kind):
            return T.BooleanType()
        if pa.types.is_list(kind):
            return T.ArrayType(T.StringType())
        return T.StringType()

    return T.StructType([T.StructField(f.name, convert(f.type), True) for f in TABLES[table]])


def spark_connection(files: dict[str, list[Path]]) -> Any:
    """An Ibis PySpark backend with a temporary view per table over the run's files."""
    import ibis

    session = spark_session()
    for table in TABLES:
        schema = spark_schema(table)
        paths = [str(p) for p in files.get(table, [])]
        if paths:
            frame = session.read.schema(schema).parquet(*paths)
        else:
            frame = session.createDataFrame([], schema)
        frame.createOrReplaceTempView(table)
    return ibis.pyspark.connect(session)
