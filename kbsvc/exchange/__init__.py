"""Knowledge exchange between hospitals: a documented zip of JSON lines, imported as drafts."""
