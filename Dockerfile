# flowdeck: one image for API processes (`flowdeck serve`) and workers (`flowdeck worker`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && python -m compileall -q /usr/local/lib/python3.11/site-packages/flowdeck

RUN useradd --create-home flowdeck
USER flowdeck
ENV FLOWDECK_HOST=0.0.0.0 FLOWDECK_DATA_DIR=/home/flowdeck/data
EXPOSE 7860
CMD ["flowdeck", "serve"]
