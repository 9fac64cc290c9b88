/* A header installed through the wheel's .data/headers directory. */
int with_data_answer(void);
