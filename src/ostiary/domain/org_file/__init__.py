"""``ostiary apply -f org.yaml``: the org as a file (issue 21).

:mod:`.document` checks a whole file before anything is touched (every error names the path of
the bad field); :mod:`.applying` brings the org to the file in one transaction through the same
domain functions the management API runs, changing only what differs.
"""
