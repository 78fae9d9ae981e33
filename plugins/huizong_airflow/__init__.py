"""Airflow glue for huizong: assets, task policy, connections, notifiers, the plugin."""
