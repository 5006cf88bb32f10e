"""Pure domain rules: names, ARNs, statuses, output layout. No I/O."""
