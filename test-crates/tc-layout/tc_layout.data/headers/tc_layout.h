int tc_layout(void);
