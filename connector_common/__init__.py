"""What both connectors' command lines do around the CDK in the same way: checking saved states before a sync reads
anything (saved_state) and tuning glibc's malloc for many threads (malloc)."""
