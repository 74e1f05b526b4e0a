FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# The locked versions (exact, hash-checked) first, so code changes reuse this layer.
COPY requirements/prod.txt requirements/prod.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/prod.txt
COPY . .
# The translations are compiled here (the .mo files are not committed): Babel's compiler, so the
# image needs no gettext.
RUN pip install --no-cache-dir --no-deps . && DJANGO_DEBUG=true python manage.py collectstatic --noinput \
    && pybabel compile --directory locale --domain django
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--no-control-socket"]
