# The product only: built into a wheel first, so the image holds exactly what the wheel packages
# (shared/ and services/; the simulator in sim/ is a separate distribution with its own image).
# The full python image for this stage: it has the C compiler mypyc needs to compile the PII engine's hot
# modules into the wheel (setup.py); the slim image below only runs them.
FROM python:3.11 AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY shared ./shared
COPY services ./services
RUN pip wheel --no-cache-dir --no-deps . -w /wheels

FROM python:3.11-slim
WORKDIR /app
COPY --from=wheel /wheels /wheels
# Every dependency at the version the tests passed with (scripts/constraints.py writes the file): an image
# built later installs the same packages, not whatever is newest that day.
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir -c /tmp/constraints.txt /wheels/*.whl && rm -rf /wheels /tmp/constraints.txt \
    && useradd --create-home --uid 10001 --user-group erasure
# Numeric: Kubernetes' runAsNonRoot can only check a number (a name is refused), and deploy/k8s runs as this uid.
USER 10001:10001
ENTRYPOINT ["erasure"]
