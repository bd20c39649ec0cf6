"""What the analyst already knows about a batch of photos, as evidence beside the pixels: an area of
interest (area.py, search.py), capture times (capture_time.py), streams of photos located jointly with
the batch's GPS photos as anchors (streams.py) and GPS tracks (tracks.py). `run.ContextRun` restricts
each photo's search to its area and revises the one-by-one answers with the anchors, the track and the
streams, each answer saying which evidence decided it (docs/context.md)."""
