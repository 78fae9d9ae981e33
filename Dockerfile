# syntax=docker/dockerfile:1
# huizong's Airflow image: the exact dependency tree of requirements.lock (the
# one `make install` and CI test) plus the project, installed editable from
# /opt/huizong so sql/ and expectations/ resolve next to the package as in a
# checkout. Every Airflow service of docker-compose.yaml runs it. The lock
# includes apache-airflow-providers-fab: compose logs engineers in with the FAB
# auth manager (one user each, stored in the metadata DB).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/huizong/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/huizong/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    HUIZONG_DATA_DIR=/opt/airflow/data

# uid 50000, gid 0 as in Airflow's own image, so volumes carry over. The
# directories mounted as named volumes are created here so a fresh volume
# inherits their owner.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow \
 && mkdir -p /opt/airflow/logs /opt/airflow/data /opt/huizong \
 && chown -R 50000:0 /opt/airflow

WORKDIR /opt/huizong

# Dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --requirement requirements.lock

# The code stays owned by root: tasks can read it, not rewrite it.
COPY pyproject.toml README.md ./
COPY include/ include/
COPY dags/ dags/
COPY plugins/ plugins/
COPY sql/ sql/
COPY expectations/ expectations/
RUN pip install --no-deps --no-build-isolation -e . \
 && python -c "import huizong, huizong.pipeline"

USER 50000:0
WORKDIR /opt/airflow
EXPOSE 8080 8793
ENTRYPOINT ["airflow"]
CMD ["version"]
