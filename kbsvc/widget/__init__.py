"""The embedded widget's server side: 存为知识 from a host ticket page, userscripts."""
