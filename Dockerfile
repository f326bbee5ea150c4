FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml ./
COPY codev ./codev
COPY groups ./groups
COPY sessions ./sessions
RUN pip install --editable .

COPY . .
RUN pybabel compile --domain django --directory locale \
    && DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

RUN useradd --system --home /app codev && chown -R codev /app
USER codev
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && daphne -b 0.0.0.0 -p 8000 --ping-interval 3 --ping-timeout 5 codev.asgi:application"]
