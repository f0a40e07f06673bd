"""Races made on purpose: a second writer's command run between a transaction's WATCH and its MULTI."""

from __future__ import annotations


def interfere_once(client, write):
    """Run ``write`` once between a transaction's WATCH and its MULTI (what a second process may do)."""
    original_pipeline = client.pipeline
    done = []

    def pipeline_(*args, **kwargs):
        pipe = original_pipeline(*args, **kwargs)
        real_multi = pipe.multi

        def multi():
            if not done:
                done.append(True)
                write()
            return real_multi()

        pipe.multi = multi
        return pipe

    client.pipeline = pipeline_
    return done
