"""What both connectors do around the CDK in the same way: checking saved states before a sync reads anything
(saved_state), tuning glibc's malloc for many threads (malloc), and requesting a partition's offset pages ahead on
the sync's worker pool (pages_read_ahead; Mailchimp's pages are offsets, Campaign Monitor's are not)."""
