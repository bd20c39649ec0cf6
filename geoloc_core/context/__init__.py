"""What the analyst already knows about a batch of photos, as evidence beside the pixels: an area of
interest (area.py), capture times (capture_time.py), streams of photos located jointly with the batch's
GPS photos as anchors (streams.py) and GPS tracks (tracks.py). `apply_context` (joint.py) takes the
one-by-one results and returns them revised, each with the evidence that decided it."""
